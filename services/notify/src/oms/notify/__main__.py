"""`python -m oms.notify` starts the notify service."""

from oms.notify.app import main

main()
