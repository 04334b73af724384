"""A plugin module that cannot be imported (a missing dependency), for the failure test."""

raise ImportError("fusionbench_example_plugin.broken needs the package 'not-installed-anywhere'")
