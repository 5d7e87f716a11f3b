"""Exchanges with the outside: agenda editors' FHIR endpoints, the Hub Santé."""
