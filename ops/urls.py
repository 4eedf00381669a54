"""Operations endpoints (outside i18n_patterns: monitors call fixed addresses)."""

urlpatterns = []
