# tieviz dashboard. CPU torch by default; for CUDA:
#   docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 -t tieviz:cuda .
#   docker run --gpus all -p 8501:8501 -v tieviz-data:/data tieviz:cuda
FROM python:3.11-slim

ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    TIEVIZ_DATA=/data \
    TIEVIZ_ANON_MAX_STEPS=2000 \
    TIEVIZ_ANON_MAX_PARAMS=20000000 \
    TIEVIZ_ANON_MAX_TFLOPS=20 \
    TIEVIZ_ANON_MAX_MINUTES=60 \
    TIEVIZ_ANON_MAX_MEMORY_MB=2048 \
    TIEVIZ_MAX_QUEUED_PER_VISITOR=3 \
    TIEVIZ_UPLOAD_MAX_STAGED_MB=4096 \
    TIEVIZ_CHECKPOINT_CONCURRENCY=1 \
    TIEVIZ_MAX_QUEUED_PER_ADDRESS=3 \
    TIEVIZ_ANON_MAX_ACTIVE=12 \
    TIEVIZ_ANON_TFLOPS_PER_HOUR=100 \
    TIEVIZ_ANON_MAX_DISK_MB=2048 \
    TIEVIZ_RUNS_MAX_MB=20480 \
    TIEVIZ_JOBS_MAX_MB=2048 \
    TIEVIZ_TOKENIZER_MAX_MB=64 \
    TIEVIZ_TOKENIZER_MAX_ENTRIES=1000000 \
    TIEVIZ_TOKENIZER_MAX_ADDED=20000 \
    TIEVIZ_TRUST_PROXY=0 \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

# Chromium lets kaleido export figures as PNG; curl serves the health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium curl \
    && rm -rf /var/lib/apt/lists/*
ENV BROWSER_PATH=/usr/bin/chromium

WORKDIR /app
COPY requirements.txt .
RUN pip install --index-url "$TORCH_INDEX" "torch==${TORCH_VERSION}" \
    && pip install -r requirements.txt

COPY app.py ./
COPY pages ./pages
COPY tieviz ./tieviz
COPY .streamlit ./.streamlit

RUN useradd --create-home --uid 1000 tieviz \
    && mkdir -p /data \
    && chown tieviz:tieviz /data
USER tieviz
# The examples a visitor sees first, trained at build time (toy: under a minute; demo: a few minutes on a
# CPU), so a hosted copy starts with them; a new named volume is filled from them on first start.
RUN python -m tieviz experiment --preset toy --quiet --runs-dir /data/runs --out /tmp/example-toy \
    && python -m tieviz experiment --preset demo --quiet --runs-dir /data/runs --out /tmp/example-demo \
    && rm -rf /tmp/example-toy /tmp/example-demo
VOLUME ["/data"]

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD curl --fail --silent http://127.0.0.1:8501/_stcore/health || exit 1

CMD ["streamlit", "run", "app.py"]
