"""The authentication backend: Django's ModelBackend, loading a user's observer with them."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ModelBackendWithObserver(ModelBackend):
    """Every volunteer page needs the signed-in user, their observer and the election: one
    query per request instead of three. Staff without an observer get None joined in."""

    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("observer__election").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
