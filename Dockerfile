FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# gettext's msgfmt builds the translations (.mo) from locale/*.po.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
# A GPU worker's image swaps tensorflow-cpu for TENSORFLOW (the compose file's worker-remote-gpu
# passes "tensorflow[and-cuda]==2.21.0": the same version, with NVIDIA's CUDA libraries).
ARG TENSORFLOW=""
RUN pip install --no-cache-dir -r requirements.txt \
 && if [ -n "$TENSORFLOW" ]; then pip uninstall -y tensorflow-cpu && pip install --no-cache-dir "$TENSORFLOW"; fi
COPY . .
RUN DJANGO_SETTINGS_MODULE=ethitech.settings python manage.py compilemessages -v0
RUN useradd --create-home ethitech && mkdir -p /data && chown ethitech /data
USER ethitech
EXPOSE 8000
