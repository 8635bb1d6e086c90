"""What tests and benchmarks share: real worker processes, Redis servers, scratch databases,
fakes of every boundary, and ways to watch them."""
