# Tables declared outside db.models register on the shared metadata when imported; importing
# them with the package keeps Alembic and create_all seeing every table whoever imports first.
from db import books_state as _books_state  # noqa: F401
from db import link_keys as _link_keys  # noqa: F401
from db import oauth_tokens as _oauth_tokens  # noqa: F401
