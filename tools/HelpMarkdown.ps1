# Reads the help pages in docs/en-US (the layout is described in docs/en-US/README.md).
# Dot-sourced by tools/New-MamlHelp.ps1 (to make MAML) and by tests/Help.Tests.ps1 (to find the
# examples and which of them the suite must not run), so both read a page the same way.

# The fence info word that marks an example the test suite does not run (see README.md).
$script:NoRunMarker = 'no-run'

# The section order of a command page; SYNTAX is generated from the cmdlet and only checked.
$script:CommandSections = 'SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'RELATED LINKS'

function Split-MarkdownHeading {
    # Splits lines at headings of one level ('## ', '### '), never inside fenced code. The first
    # element holds the lines before the first heading (Heading = $null).
    param([string[]] $Lines, [int] $Level)
    $prefix = ('#' * $Level) + ' '
    $sections = [Collections.Generic.List[object]]::new()
    $current = [pscustomobject]@{ Heading = $null; Lines = [Collections.Generic.List[string]]::new() }
    $inFence = $false
    foreach ($line in $Lines) {
        if ($line -match '^\s*(```|~~~)') { $inFence = -not $inFence }
        elseif (-not $inFence -and $line.StartsWith($prefix)) {
            $sections.Add($current)
            $current = [pscustomobject]@{ Heading = $line.Substring($prefix.Length).Trim(); Lines = [Collections.Generic.List[string]]::new() }
            continue
        }
        $current.Lines.Add($line)
    }
    $sections.Add($current)
    $sections
}

function ConvertFrom-MarkdownBlock {
    # Turns the body of a section into blocks: Paragraph (Text), ListItem (Text), Code (Info,
    # Lines), Table (Lines) and Heading (Level, Text). Enough markdown for help text, no more.
    param([string[]] $Lines)
    $blocks = [Collections.Generic.List[object]]::new()
    $paragraph = [Collections.Generic.List[string]]::new()
    $flush = {
        if ($paragraph.Count -gt 0) {
            $kind = if ($paragraph[0] -match '^\s*([-*+]|\d+\.)\s+') { 'ListItem' } else { 'Paragraph' }
            $blocks.Add([pscustomobject]@{ Kind = $kind; Text = (($paragraph | ForEach-Object Trim) -join ' ') })
            $paragraph.Clear()
        }
    }
    for ($i = 0; $i -lt $Lines.Count; $i++) {
        $line = $Lines[$i]
        if ($line -match '^\s*(```|~~~)\s*(.*)$') {
            & $flush
            $fence, $info = $Matches[1], $Matches[2].Trim()
            $code = [Collections.Generic.List[string]]::new()
            for ($i++; $i -lt $Lines.Count -and $Lines[$i] -notmatch "^\s*$fence\s*$"; $i++) { $code.Add($Lines[$i]) }
            $blocks.Add([pscustomobject]@{ Kind = 'Code'; Info = $info; Lines = [string[]]$code })
            continue
        }
        if ($line -match '^\s*$') { & $flush; continue }
        if ($line -match '^(#{1,6})\s+(.*)$') {
            & $flush
            $blocks.Add([pscustomobject]@{ Kind = 'Heading'; Level = $Matches[1].Length; Text = $Matches[2].Trim() })
            continue
        }
        if ($line -match '^\s*\|') {
            & $flush
            $table = [Collections.Generic.List[string]]::new()
            for (; $i -lt $Lines.Count -and $Lines[$i] -match '^\s*\|'; $i++) { $table.Add($Lines[$i].Trim()) }
            $i--
            $blocks.Add([pscustomobject]@{ Kind = 'Table'; Lines = [string[]]$table })
            continue
        }
        # A new list item ends the previous one; an indented line continues it.
        if ($line -match '^\s*([-*+]|\d+\.)\s+' -and $paragraph.Count -gt 0) { & $flush }
        $paragraph.Add($line)
    }
    & $flush
    $blocks
}

function ConvertTo-HelpText {
    # Inline markdown to the plain text Get-Help shows: links become their text (and address
    # when it is a web address), bold markers go; code spans keep their backticks.
    param([string] $Text)
    $Text = [regex]::Replace($Text, '\[([^\]]+)\]\(([^)\s]+)\)', {
            param($m)
            $label, $uri = $m.Groups[1].Value, $m.Groups[2].Value
            if ($uri -match '^https?://' -and $uri -ne $label) { "$label ($uri)" } else { $label }
        })
    $Text -replace '\*\*([^*]+)\*\*', '$1' -replace '__([^_]+)__', '$1'
}

function Test-BlankBlock([object[]] $Blocks) {
    -not ($Blocks | Where-Object { ($_.Kind -in 'Code', 'Table') -or ($_.Text -and $_.Text.Trim()) })
}

function Read-HelpPage {
    # Parses one command page into an object; Problems lists what breaks the page's format.
    param([Parameter(Mandatory)] [string] $Path)
    $lines = [string[]](Get-Content -LiteralPath $Path -Encoding utf8)
    $problems = [Collections.Generic.List[string]]::new()
    # PlatyPS-style front matter is allowed and ignored.
    if ($lines.Count -gt 0 -and $lines[0] -eq '---') {
        $end = [array]::IndexOf($lines, '---', 1)
        if ($end -gt 0) { $lines = $lines[($end + 1)..($lines.Count - 1)] }
    }
    $top = Split-MarkdownHeading $lines 1
    $expected = [IO.Path]::GetFileNameWithoutExtension($Path)
    $name = if ($top.Count -ge 2) { $top[1].Heading } else { $null }
    if ($top.Count -ne 2) { $problems.Add("it must have exactly one '# $expected' title") }
    elseif ($name -ne $expected) { $problems.Add("its title '# $name' must be the file name '# $expected'") }

    $page = [pscustomobject]@{
        Path        = $Path
        Name        = $expected
        Synopsis    = ''
        Syntax      = $null      # $null: no SYNTAX section; else a list of @{ Set; Default; Text }
        Description = @()
        Examples    = [Collections.Generic.List[object]]::new()
        Parameters  = [ordered]@{}
        Inputs      = [Collections.Generic.List[object]]::new()
        Outputs     = [Collections.Generic.List[object]]::new()
        Notes       = @()
        Links       = [Collections.Generic.List[object]]::new()
        Problems    = $problems
    }
    if ($top.Count -lt 2) { return $page }

    $seen = @{}
    foreach ($section in (Split-MarkdownHeading $top[1].Lines 2 | Select-Object -Skip 1)) {
        $heading = $section.Heading.ToUpperInvariant()
        if ($heading -notin $script:CommandSections) {
            $problems.Add("'## $($section.Heading)' is not a section of a help page (use: $($script:CommandSections -join ', '))")
            continue
        }
        if ($seen[$heading]) { $problems.Add("'## $heading' appears twice"); continue }
        $seen[$heading] = $true
        switch ($heading) {
            'SYNOPSIS' {
                $blocks = @(ConvertFrom-MarkdownBlock $section.Lines)
                $page.Synopsis = (($blocks | Where-Object Kind -EQ 'Paragraph' | ForEach-Object { ConvertTo-HelpText $_.Text }) -join ' ').Trim()
            }
            'SYNTAX' { $page.Syntax = @(Read-SyntaxSection $section.Lines $problems) }
            'DESCRIPTION' { $page.Description = @(ConvertFrom-MarkdownBlock $section.Lines) }
            'EXAMPLES' { Read-ExampleSection $section.Lines $page }
            'PARAMETERS' { Read-ParameterSection $section.Lines $page }
            'INPUTS' { Read-TypeSection $section.Lines $page.Inputs }
            'OUTPUTS' { Read-TypeSection $section.Lines $page.Outputs }
            'NOTES' { $page.Notes = @(ConvertFrom-MarkdownBlock $section.Lines) }
            'RELATED LINKS' {
                foreach ($block in (ConvertFrom-MarkdownBlock $section.Lines)) {
                    foreach ($m in [regex]::Matches([string]$block.Text, '\[([^\]]+)\]\(([^)\s]*)\)')) {
                        $page.Links.Add([pscustomobject]@{ Text = $m.Groups[1].Value; Uri = $m.Groups[2].Value })
                    }
                }
            }
        }
    }
    $page
}

function Read-SyntaxSection {
    # '### SetName' or '### SetName (Default)' headings, each with one code block; one set may omit the heading.
    param([string[]] $Lines, $Problems)
    foreach ($part in (Split-MarkdownHeading $Lines 3)) {
        $code = @(ConvertFrom-MarkdownBlock $part.Lines | Where-Object Kind -EQ 'Code')
        if ($null -eq $part.Heading -and $code.Count -eq 0) { continue }
        $set, $isDefault = $null, $false
        if ($part.Heading -match '^(.+?)(\s+\(Default\))?$') { $set = $Matches[1]; $isDefault = [bool]$Matches[2] }
        if ($code.Count -ne 1) { $Problems.Add("SYNTAX$(if ($set) { " '$set'" }) must hold one code block"); continue }
        [pscustomobject]@{ Set = $set; Default = $isDefault; Text = ($code[0].Lines -join ' ').Trim() }
    }
}

function Read-ExampleSection {
    param([string[]] $Lines, $Page)
    foreach ($part in (Split-MarkdownHeading $Lines 3 | Select-Object -Skip 1)) {
        $number = $Page.Examples.Count + 1
        if ($part.Heading -notmatch '^Example (\d+)\s*:\s*(\S.*)$' -or [int]$Matches[1] -ne $number) {
            $Page.Problems.Add("example heading '### $($part.Heading)' must read '### Example ${number}: <title>'")
            continue
        }
        $title = $Matches[2].Trim()
        $blocks = @(ConvertFrom-MarkdownBlock $part.Lines)
        $first = [array]::FindIndex([object[]]$blocks, [Predicate[object]] { param($b) $b.Kind -eq 'Code' })
        if ($first -lt 0 -or ($blocks[$first].Info -split '\s+')[0] -ne 'powershell') {
            $Page.Problems.Add("Example ${number} must start with a ``````powershell code block")
            continue
        }
        $info = @($blocks[$first].Info -split '\s+' | Select-Object -Skip 1)
        $unknown = @($info | Where-Object { $_ -ne $script:NoRunMarker })
        if ($unknown) { $Page.Problems.Add("Example ${number}: unknown code block flag '$($unknown -join ' ')' (only '$script:NoRunMarker' is known)") }
        $code = ($blocks[$first].Lines -join "`n").Trim()
        if (-not $code) { $Page.Problems.Add("Example ${number} has an empty code block") }
        $remarks = @($blocks | Select-Object -Skip ($first + 1))
        if (Test-BlankBlock $remarks) { $Page.Problems.Add("Example ${number} needs a sentence after its code that says what it does") }
        $Page.Examples.Add([pscustomobject]@{
                Number  = $number
                Title   = $title
                Code    = $code
                NoRun   = $info -contains $script:NoRunMarker
                Remarks = $remarks
            })
    }
}

function Read-ParameterSection {
    param([string[]] $Lines, $Page)
    foreach ($part in (Split-MarkdownHeading $Lines 3 | Select-Object -Skip 1)) {
        if ($part.Heading -eq 'CommonParameters') { continue }
        if ($part.Heading -notmatch '^-(\w+)$') {
            $Page.Problems.Add("parameter heading '### $($part.Heading)' must read '### -Name'")
            continue
        }
        $name = $Matches[1]
        $blocks = @(ConvertFrom-MarkdownBlock $part.Lines)
        $default = $null
        foreach ($yaml in ($blocks | Where-Object { $_.Kind -eq 'Code' -and $_.Info -eq 'yaml' })) {
            foreach ($entry in $yaml.Lines | Where-Object { $_.Trim() }) {
                if ($entry -match '^\s*Default value\s*:\s*(.*)$') { $default = $Matches[1].Trim() }
                else {
                    $key = ($entry -split ':', 2)[0].Trim()
                    $Page.Problems.Add("-${name}: '$key' in the yaml block; the type, sets, position and pipeline input come from the cmdlet, so only 'Default value' may be written")
                }
            }
        }
        $description = @($blocks | Where-Object { -not ($_.Kind -eq 'Code' -and $_.Info -eq 'yaml') })
        if ($Page.Parameters.Contains($name)) { $Page.Problems.Add("-$name is described twice") }
        $Page.Parameters[$name] = [pscustomobject]@{ Name = $name; Description = $description; DefaultValue = $default }
    }
}

function Read-TypeSection {
    # INPUTS and OUTPUTS: '### TypeName' followed by what it means.
    param([string[]] $Lines, $Target)
    foreach ($part in (Split-MarkdownHeading $Lines 3 | Select-Object -Skip 1)) {
        $Target.Add([pscustomobject]@{ Type = $part.Heading; Description = @(ConvertFrom-MarkdownBlock $part.Lines) })
    }
}

function Read-AboutPage {
    # about_<Topic>.md: '# about_Topic', then '## SHORT DESCRIPTION', '## LONG DESCRIPTION' and any further '## ' sections.
    param([Parameter(Mandatory)] [string] $Path)
    $lines = [string[]](Get-Content -LiteralPath $Path -Encoding utf8)
    $problems = [Collections.Generic.List[string]]::new()
    $top = Split-MarkdownHeading $lines 1
    $expected = [IO.Path]::GetFileNameWithoutExtension($Path)
    if ($top.Count -ne 2 -or $top[1].Heading -ne $expected) { $problems.Add("it must have exactly one '# $expected' title") }
    $sections = [Collections.Generic.List[object]]::new()
    if ($top.Count -ge 2) {
        foreach ($section in (Split-MarkdownHeading $top[1].Lines 2 | Select-Object -Skip 1)) {
            $sections.Add([pscustomobject]@{ Heading = $section.Heading.ToUpperInvariant(); Blocks = @(ConvertFrom-MarkdownBlock $section.Lines) })
        }
    }
    foreach ($required in 'SHORT DESCRIPTION', 'LONG DESCRIPTION') {
        $s = $sections | Where-Object Heading -EQ $required
        if (-not $s -or (Test-BlankBlock $s.Blocks)) { $problems.Add("it needs a '## $required' section with text") }
    }
    [pscustomobject]@{ Path = $Path; Name = $expected; Sections = $sections; Problems = $problems }
}
