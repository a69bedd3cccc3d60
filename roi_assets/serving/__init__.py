"""The real-time serving API: FastAPI app, model loading by registry alias, caches."""
