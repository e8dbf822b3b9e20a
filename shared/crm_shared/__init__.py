"""Plumbing shared by the CRM services. Holds no models and no business rules."""
