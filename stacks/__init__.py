"""The municloud Pulumi program: one ComponentResource per box of the architecture picture."""
