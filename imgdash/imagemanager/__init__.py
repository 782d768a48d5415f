"""All HTTP to a cluster's Image Manager API goes through this package.

Views, commands and the cache call :class:`ImageManagerClient`; nothing else imports
``requests``. No Django imports here: callers pass settings in.
"""

from .claims import (
    TokenFacts,
    describe_token,
    token_claims,
    token_expires_at,
    token_subject,
)
from .client import SCOPES, ImageManagerClient
from .errors import (
    BadRequest,
    ClientError,
    ConfigurationError,
    Forbidden,
    ImageManagerError,
    InvalidInput,
    InvalidRepositoryName,
    InvalidScope,
    NotFound,
    OutcomeUnknown,
    ProtocolError,
    RateLimited,
    TLSError,
    Unauthorized,
    Unavailable,
)
from .names import (
    CATALOG_SCOPE,
    MAX_NAME_LENGTH,
    is_valid_repository_name,
    is_valid_tag,
    namespace_of,
    repository_scope,
    repository_url,
    short_name_of,
    validate_repository_name,
)
from .redaction import redact_secrets
from .results import (
    SIZE_AT_LEAST,
    SIZE_EXACT,
    SIZE_UNKNOWN,
    ApiBanner,
    DockerToken,
    IdentityToken,
    Layer,
    Manifest,
    Platform,
    Repository,
    SizeSummary,
    Tag,
)
from .session import USER_AGENT, ssl_context_from_pem
from .transport import DEFAULT_MAX_RESPONSE_BYTES, ListProgress
from .visible import HIDDEN_CHARACTERS, visible_text

__all__ = [
    "CATALOG_SCOPE",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "HIDDEN_CHARACTERS",
    "MAX_NAME_LENGTH",
    "SCOPES",
    "SIZE_AT_LEAST",
    "SIZE_EXACT",
    "SIZE_UNKNOWN",
    "USER_AGENT",
    "ApiBanner",
    "BadRequest",
    "ClientError",
    "ConfigurationError",
    "DockerToken",
    "Forbidden",
    "IdentityToken",
    "ImageManagerClient",
    "ImageManagerError",
    "InvalidInput",
    "InvalidRepositoryName",
    "InvalidScope",
    "Layer",
    "ListProgress",
    "Manifest",
    "NotFound",
    "OutcomeUnknown",
    "Platform",
    "ProtocolError",
    "RateLimited",
    "Repository",
    "SizeSummary",
    "TLSError",
    "Tag",
    "TokenFacts",
    "Unauthorized",
    "Unavailable",
    "describe_token",
    "is_valid_repository_name",
    "is_valid_tag",
    "namespace_of",
    "redact_secrets",
    "repository_scope",
    "repository_url",
    "short_name_of",
    "ssl_context_from_pem",
    "token_claims",
    "token_expires_at",
    "token_subject",
    "validate_repository_name",
    "visible_text",
]
