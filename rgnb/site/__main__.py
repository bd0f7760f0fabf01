"""``python -m rgnb.site``: the headless-browser check of the built site (:func:`rgnb.site.browser.main`)."""

import sys

from rgnb.site.browser import main

sys.exit(main())
