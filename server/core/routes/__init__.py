"""HTTP routes for core records."""

from server.core.routes.audit import AuditController
from server.core.routes.auth import AuthController, MeController
from server.core.routes.people import MemberController, TokenController, UserController
from server.core.routes.sites import LocationController, SiteController

ROUTES = [
    AuthController,
    MeController,
    SiteController,
    LocationController,
    UserController,
    MemberController,
    TokenController,
    AuditController,
]
