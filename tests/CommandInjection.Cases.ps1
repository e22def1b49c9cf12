# Shell-injection cases: arguments and config values that a shell would run as code.
#
# Jobs run their -Command as an argument vector WITHOUT a shell (SPEC section 4), so every one of
# these must reach the program exactly as given and have no side effect.
#
#   $CommandInjectionCases  Name, Arguments: the argument vector after the program.
#   $ConfigInjectionCases   Name, Config: a config whose values a careless handler might paste
#                           into a command line.
#   '{marker}' stands for the path of a file that must never be created; Expand-InjectionCase
#   fills it in at run time.
#
# Used now by Privacy.Tests.ps1: Submit-TrainingJob stores each vector and config exactly.
# For the worker (Start-JobWorker), extend the runs, not the table: run each command case as a
# job whose program prints its arguments one per line (for example pwsh -NoProfile -File
# echo-args.ps1), and each config case with a handler that reads $env:JOBQUEUE_CONFIG; then
# assert the job completed, its log holds exactly the arguments (or config values), and the
# marker file does not exist. Add rows here for any new way in (a -Handler vector, schedules).

$CommandInjectionCases = @(
    @{ Name = 'command separator'; Arguments = @('; touch {marker}') }
    @{ Name = 'and-then'; Arguments = @('&& touch {marker}') }
    @{ Name = 'or-else'; Arguments = @('|| touch {marker}') }
    @{ Name = 'pipe'; Arguments = @('| tee {marker}') }
    @{ Name = 'background'; Arguments = @('& touch {marker}') }
    @{ Name = 'command substitution'; Arguments = @('$(touch {marker})') }
    @{ Name = 'backtick substitution'; Arguments = @('`touch {marker}`') }
    @{ Name = 'process substitution'; Arguments = @('<(touch {marker})') }
    @{ Name = 'redirection'; Arguments = @('> {marker}') }
    @{ Name = 'append redirection'; Arguments = @('>> {marker}') }
    @{ Name = 'newline'; Arguments = @("x`ntouch {marker}") }
    @{ Name = 'carriage return'; Arguments = @("x`rtouch {marker}") }
    @{ Name = 'broken single quotes'; Arguments = @("'; touch {marker}; echo '") }
    @{ Name = 'broken double quotes'; Arguments = @('"; touch {marker}; echo "') }
    @{ Name = 'glob'; Arguments = @('*', '/etc/*', '?') }
    @{ Name = 'brace expansion'; Arguments = @('{a,b}', '{1..3}') }
    @{ Name = 'tilde and variables'; Arguments = @('~', '$HOME', '${PATH}', '$0') }
    @{ Name = 'here-document'; Arguments = @('<<EOF', 'touch {marker}', 'EOF') }
    @{ Name = 'cmd.exe metacharacters'; Arguments = @('& type nul > {marker}', '%COMSPEC%', '^& echo', '%PATH%') }
    @{ Name = 'PowerShell expressions'; Arguments = @('$(New-Item {marker})', '; New-Item {marker}', '@(1)', '$env:PATH') }
    @{ Name = 'words that must stay one argument'; Arguments = @('two words', ' leading and trailing ', "tab`tseparated") }
    @{ Name = 'empty and dash arguments'; Arguments = @('', '--', '-rf', '--help') }
    @{ Name = 'unicode'; Arguments = @("`u{202E}evil", "`u{1F680}", "e`u{0301}") }
)

$ConfigInjectionCases = @(
    @{ Name = 'substitutions'; Config = [ordered]@{ lr = '$(touch {marker})'; opt = '`touch {marker}`'; out = '; touch {marker}' } }
    @{ Name = 'redirections and pipes'; Config = [ordered]@{ path = '> {marker}'; cmd = '| tee {marker}'; both = '&& touch {marker} || touch {marker}' } }
    @{ Name = 'quotes'; Config = [ordered]@{ single = "'; touch {marker}; '"; double = '"; touch {marker}; "' } }
    @{ Name = 'newlines'; Config = [ordered]@{ script = "x`ntouch {marker}`n" } }
    @{ Name = 'nested'; Config = [ordered]@{ args = @('$(touch {marker})', [ordered]@{ deeper = '`touch {marker}`' }) } }
)

function Expand-InjectionCase {
    # The case's text with '{marker}' replaced by a real path (recursively for configs).
    param($Value, [Parameter(Mandatory)] [string] $Marker)
    # (if, not switch: switch would walk through an array instead of looking at it.)
    if ($Value -is [string]) { return $Value.Replace('{marker}', $Marker) }
    if ($Value -is [Collections.IDictionary]) {
        $copy = [ordered]@{}
        foreach ($key in $Value.Keys) { $copy[$key] = Expand-InjectionCase $Value[$key] $Marker }
        return $copy
    }
    if ($Value -is [Collections.IList]) { return , @($Value | ForEach-Object { Expand-InjectionCase $_ $Marker }) }
    $Value
}
