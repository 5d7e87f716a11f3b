"""The demo territory: fictional accounts and a Charente-Maritime-like territory."""
