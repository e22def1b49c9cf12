# Placeholder replaced by the help generator.
param([string] $Source, [string] $Destination)
New-Item -ItemType Directory -Force $Destination | Out-Null
