import os
import threading

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ethitech.settings")
application = get_wsgi_application()


def _warm_up_face_search() -> None:
    from inference.preprocessing import warm_up

    warm_up(("haar",))


# Uploads have their face found here (settings.FIND_FACES_AT_UPLOAD): OpenCV and its cascade load
# while the server starts, not during a student's first upload (about 0.2 s).
face_search_warm_up = None
if settings.FIND_FACES_AT_UPLOAD:
    face_search_warm_up = threading.Thread(target=_warm_up_face_search, name="face-search-warm-up", daemon=True)
    face_search_warm_up.start()
