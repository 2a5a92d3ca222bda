"""The presentation kit that every slice's routes share: Jinja rendering and page errors
(``templating``), URL periods (``periods``), the JSON response models (``api_schema``) and
the Hugging Face-shaped paper JSON (``hf_shapes``).  It sits below the domains, so that a
slice's routes can render without importing ``web`` (the app that assembles them); it may
import ``store.views``, ``core``, ``safetext`` and ``settings`` only."""
