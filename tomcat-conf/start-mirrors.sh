#!/bin/sh
# placeholder
# When to use it
