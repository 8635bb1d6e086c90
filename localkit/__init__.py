"""The local kit: Greenhouse on one machine with nothing else installed.

An embedded Redis server, a process supervisor, `greenhouse up` / `demo`, the Plant.id and
PlantNet sandbox and the forum seeder. Production workers, beat and Flower never import it; the
production image does not run it (its Redis server comes with the `local` extra).
"""
