FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md requirements.lock ./
COPY api ./api
COPY events ./events
COPY migrations ./migrations
COPY examples ./examples
# The pinned versions the suite ran with (requirements.lock), not whatever is newest today.
RUN pip install --no-cache-dir -c requirements.lock . && useradd --create-home chronicle
USER chronicle
EXPOSE 8000
CMD ["chronicle", "serve", "--host", "0.0.0.0", "--port", "8000"]
