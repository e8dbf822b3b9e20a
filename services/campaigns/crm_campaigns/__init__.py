"""CRM campaigns: skeleton service."""
