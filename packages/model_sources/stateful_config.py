"""Settings another module of the package reads (GlobalScale in stateful_models)."""


class Settings:
    def __init__(self):
        self.offset = 0.0


settings = Settings()
