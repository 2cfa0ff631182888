"""The platform's services: what the routes do, below the web layer (no request, no response)."""
