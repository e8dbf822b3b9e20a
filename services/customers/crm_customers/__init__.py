"""Customers service: companies, persons, contact persons, custom attributes and the customer lifecycle."""
