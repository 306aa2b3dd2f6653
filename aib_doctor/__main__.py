"""`python -m aib_doctor` runs the command line."""

from aib_doctor.cli import main

main()
