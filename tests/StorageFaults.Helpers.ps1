# Helpers of StorageFaults.Tests.ps1: small file systems to fill up or make read-only, and child
# processes that report what each step of a script did. Dot-source after TestHelpers.ps1.

function Mount-SmallFileSystem {
    # A file system of its own, so it can be filled or remounted read-only without touching
    # anything else: tmpfs when the kernel allows it, else an ext4 image on a loop device.
    # Needs root on Linux (as CI runs); says so when it cannot mount.
    param([int] $SizeKB = 1024)
    $dir = Join-Path ([IO.Path]::GetTempPath()) ('jq-fs-' + [guid]::NewGuid().ToString('N').Substring(0, 12))
    New-Item -ItemType Directory -Force $dir | Out-Null
    $tmpfs = & mount -t tmpfs -o "size=$($SizeKB)k,mode=0755" tmpfs $dir 2>&1
    if ($LASTEXITCODE -eq 0) { return [pscustomobject]@{ Path = $dir; Image = $null; Kind = 'tmpfs' } }
    $image = "$dir.img"
    $loop = & {
        & truncate -s "$([Math]::Max($SizeKB, 2048))k" $image 2>&1
        & mkfs.ext4 -q -F -m 0 -O '^has_journal' $image 2>&1
        & mount -o loop $image $dir 2>&1
    }
    if ($LASTEXITCODE -eq 0) { return [pscustomobject]@{ Path = $dir; Image = $image; Kind = 'loop' } }
    Remove-Item -Force $dir, $image -ErrorAction Ignore
    throw "The storage-fault tests mount a small file system and need root on Linux. tmpfs: $tmpfs; loop: $loop"
}

function Dismount-SmallFileSystem {
    param($FileSystem)
    if (-not $FileSystem) { return }
    & chattr -R -i $FileSystem.Path 2>&1 | Out-Null
    & umount $FileSystem.Path 2>&1 | Out-Null
    if ($LASTEXITCODE -ne 0) { & umount -l $FileSystem.Path 2>&1 | Out-Null }
    Remove-Item -Recurse -Force $FileSystem.Path -ErrorAction Ignore
    if ($FileSystem.Image) { Remove-Item -Force $FileSystem.Image -ErrorAction Ignore }
}

function Set-FileSystemReadOnly {
    param($FileSystem, [switch] $ReadOnly)
    $mode = if ($ReadOnly) { 'remount,ro' } else { 'remount,rw' }
    $out = & mount -o $mode $FileSystem.Path 2>&1
    if ($LASTEXITCODE -ne 0) { throw "mount -o $mode $($FileSystem.Path) failed: $out" }
}

function Invoke-FaultSteps {
    # Runs $Script in a new pwsh with the module imported. The script defines its steps with
    # `Step name { ... }`; each step's outcome comes back as 'ok', or the error's id, category
    # and message, so the test can assert on each.
    param([Parameter(Mandatory)] [string] $Script)
    $prelude = @'
$Steps = [ordered]@{}
function Step([string] $Name, [scriptblock] $Body) {
    try { $out = & $Body; $Steps[$Name] = [ordered]@{ Ok = $true; Output = "$out" } }
    catch { $Steps[$Name] = [ordered]@{ Ok = $false; Id = $_.FullyQualifiedErrorId; Category = "$($_.CategoryInfo.Category)"; Message = $_.Exception.Message } }
}
function Fill-Disk([string] $Path) {
    # Writes until the file system says it is full.
    $stream = [IO.File]::OpenWrite($Path); $block = [byte[]]::new(4096)
    try { while ($true) { $stream.Write($block, 0, $block.Length); $stream.Flush() } } catch [IO.IOException] { } finally { try { $stream.Dispose() } catch [IO.IOException] { } }
}
'@
    $r = Invoke-Pwsh ($prelude + "`n" + $Script + "`n" + '"STEPS:" + ($Steps | ConvertTo-Json -Compress -Depth 3)')
    $line = ($r.Output -split "`n" | Where-Object { $_ -like 'STEPS:*' } | Select-Object -Last 1)
    if (-not $line) { throw "The child process reported no steps (exit code $($r.ExitCode)): $($r.Error) $($r.Output)" }
    $line.Substring(6) | ConvertFrom-Json -AsHashtable
}

function Get-JobsSeenByAnotherProcess {
    # The jobs of a database as another process (the sqlite3 shell) sees them on disk: id, name
    # and config, one per line.
    param([Parameter(Mandatory)] [string] $Database)
    @(Invoke-Sqlite3 $Database "SELECT job_id || '|' || ifnull(name, '') || '|' || config FROM jobs ORDER BY job_id;")
}
