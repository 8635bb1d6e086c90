"""Plant identification: providers, their catalogue and a local sandbox imitating them."""
