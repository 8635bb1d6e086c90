"""Forum and identification statistics over SQLAlchemy repositories, cached in Redis."""
