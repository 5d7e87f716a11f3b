"""The hub: owns the rules and the database, talks to desks over websockets."""
