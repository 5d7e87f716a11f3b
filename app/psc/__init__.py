"""Pro Santé Connect (PSC), the State's identity provider for health professionals:
the hub's client for its CIBA and authorization-code flows (see docs/security.md)."""
