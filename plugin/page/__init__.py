"""The Integrations page: its views, the managers' actions and panels, and their words."""
