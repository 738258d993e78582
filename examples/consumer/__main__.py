"""Entry of the consumer stack (``pulumi up`` runs this file)."""

from components.team import main

main()
