FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
# A GPU worker's image swaps tensorflow-cpu for TENSORFLOW (the compose file's worker-remote-gpu
# passes "tensorflow[and-cuda]==2.21.0": the same version, with NVIDIA's CUDA libraries).
ARG TENSORFLOW=""
RUN pip install --no-cache-dir -r requirements.txt \
 && if [ -n "$TENSORFLOW" ]; then pip uninstall -y tensorflow-cpu && pip install --no-cache-dir "$TENSORFLOW"; fi
COPY . .
RUN useradd --create-home ethitech && mkdir -p /data && chown ethitech /data
USER ethitech
EXPOSE 8000
