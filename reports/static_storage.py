"""Static files: hashed, compressed names once `collectstatic` has run; plain names before.

whitenoise's CompressedManifestStaticFilesStorage gives every collected file a name with its
content's hash, writes gzip and Brotli copies, and whitenoise then serves those names with a
cache lifetime of a year. A checkout that never ran collectstatic (tests, a first
`make run`) has no manifest: its pages then name the files as they are in the app folders,
which whitenoise finds there, instead of failing.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:  # not collected: no hashed copy to name
            return name
