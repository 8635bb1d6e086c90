"""An imitation of Plant.id v3 and PlantNet v2 (request and response formats, knobs for latency,
errors and quotas, a call counter), so nothing needs a key or the internet."""
