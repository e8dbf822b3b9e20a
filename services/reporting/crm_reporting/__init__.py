"""CRM reporting: skeleton service."""
