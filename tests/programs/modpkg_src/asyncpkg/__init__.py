print("asyncpkg imported as", __name__)
