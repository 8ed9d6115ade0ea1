"""Password hashing: Argon2id with OWASP's recommended parameters.

Django's defaults (100 MiB, 8 lanes) cost about 0.35 s of CPU per login here:
a class of 30 logging in at the start of a lesson would queue for seconds on a
small school server. OWASP's recommended minimum for Argon2id (19 MiB, 2
passes, 1 lane) is about 8 times cheaper. Stored hashes carry their own
parameters, so older ones still verify and are upgraded at the next login.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class ClassroomArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
