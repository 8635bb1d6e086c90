# One image for every Greenhouse process; docker-compose.yml picks the command. It holds what
# production runs: no embedded Redis (the `local` extra), no compiler.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md celeryconfig.py beat_schedule.py ./
COPY tasks tasks
COPY services services
COPY localkit localkit
# Exact versions: the ones CI tested (constraints.txt, `make lock`).
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 greenhouse
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
USER greenhouse
WORKDIR /home/greenhouse
ENV VAR_DIR=/home/greenhouse/var PYTHONUNBUFFERED=1
CMD ["celery", "-A", "tasks", "worker", "--loglevel", "INFO"]
