# One image for the web, worker and beat processes.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml constraints.txt ./
COPY config ./config
COPY intake ./intake
COPY routing ./routing
RUN pip install --no-cache-dir -c constraints.txt .
COPY manage.py ./
COPY templates ./templates
COPY locale ./locale

# collectstatic needs settings but no real secret or database.
RUN DJANGO_SETTINGS_MODULE=config.settings.production \
    DJANGO_SECRET_KEY=build-only-collectstatic-key-not-used-at-runtime-000000000 \
    DJANGO_ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 tipline
USER tipline
EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"]
