"""The managers' numbers: a period's figures as the policy counts them, and the files that show them."""
