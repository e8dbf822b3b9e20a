"""The guard every service's test uses: a POST route whose view is not `@idempotent` is found, one that is
(wrapped inside other decorators, in a MethodView or as a function) is not."""
import functools

from flask import Flask
from flask.views import MethodView

from crm_shared.web.idempotency import idempotent, is_idempotent, unguarded_posts


def outer(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, **kwargs)
    return wrapper


def app_with_posts() -> Flask:
    app = Flask(__name__)

    class Guarded(MethodView):
        @outer
        @idempotent
        def post(self):
            return "", 201

    class Forgotten(MethodView):
        @outer
        def post(self):
            return "", 201

        def get(self):
            return ""

    app.add_url_rule("/guarded", view_func=Guarded.as_view("guarded"))
    app.add_url_rule("/forgotten", view_func=Forgotten.as_view("forgotten"))
    app.add_url_rule("/function", "function", idempotent(lambda: ("", 201)), methods=["POST"])
    app.add_url_rule("/plain", "plain", lambda: ("", 201), methods=["POST"])
    app.add_url_rule("/read", "read", lambda: "", methods=["GET"])
    return app


def test_unguarded_posts_names_every_post_without_the_decorator():
    assert unguarded_posts(app_with_posts()) == ["/forgotten", "/plain"]


def test_an_allowed_post_is_left_out():
    assert unguarded_posts(app_with_posts(), {"/plain": "a webhook with its own key"}) == ["/forgotten"]


def test_is_idempotent_looks_through_wrappers():
    assert is_idempotent(outer(outer(idempotent(lambda: None))))
    assert not is_idempotent(outer(lambda: None))
