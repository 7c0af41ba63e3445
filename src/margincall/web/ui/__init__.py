"""The dashboard: server-rendered pages and a small script, shipped in the package (no CDN)."""
