"""The Lean Coffee board: the app factory is `leancoffee.factory.create_app`; importing the package loads nothing else."""
