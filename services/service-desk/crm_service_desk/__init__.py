"""CRM service desk: skeleton service."""
