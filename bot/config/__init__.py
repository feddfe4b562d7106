"""Settings: app.yaml (behaviour) + the environment (secrets), with one strict base and checks."""
