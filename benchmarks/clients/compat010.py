"""Names txkoji 0.10 imports that newer Twisted and Python renamed.

0.10 subclasses ``twisted.web.xmlrpc._QueryFactory`` (public as
``QueryFactory`` in current Twisted, same behaviour) and uses
``configparser.SafeConfigParser`` (an alias of ``ConfigParser``, removed in
Python 3.12).  Import this module before ``txkoji`` in 0.10's virtualenv.
"""

import configparser

from twisted.web import xmlrpc

if not hasattr(xmlrpc, "_QueryFactory"):
    xmlrpc._QueryFactory = xmlrpc.QueryFactory

if not hasattr(configparser, "SafeConfigParser"):
    configparser.SafeConfigParser = configparser.ConfigParser
