"""The narrow gateway to Microsoft Graph: tokens, HTTP, calendar and directory calls."""
