"""The admin-consent callback that the Azure AD administrator's browser comes back to."""
