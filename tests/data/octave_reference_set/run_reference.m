% Prints case_id,metric,value,call (%.17g) of the 20 reference functions of the golden set
% (its README's metric table), plus TE and Nabf, on every case of this folder.
% A reference function that stops with an error prints value "error" and the message as call.
% Run from this folder (see README.md):
%   MFIF_METRICS=.../MFIF-Metrics/fusion-metrics IFM=.../imageFusionMetrics VIFB_CBF=.../VIFB/methods/CBF \
%     LD_PRELOAD=/tmp/libdaxpy_fma.so octave-cli -q run_reference.m > values.csv
1;  % a script file, not a function file
function im = read8(name)
  % Octave's imread returns a logical image for an 8-bit PNG holding only 0 and 255 (MATLAB
  % returns uint8); double() would then give 0/1 instead of 0/255.
  im = imread(name);
  if islogical(im)
    im = uint8(im) * 255;
  end
  im = double(im);
end
pkg load image;
addpath(fullfile(pwd, '..', 'octave_structural_metrics'));  % freqspace, blkproc shims
addpath(fullfile(pwd, '..', 'octave_mfif_metrics'));        % edge shim (FMI), first on the path
addpath(fullfile(pwd, '..', 'octave_extra_metrics'));       % nabf_of.m (one output of Nabf's function)
addpath(getenv('MFIF_METRICS'), '-end');
addpath(getenv('VIFB_CBF'), '-end');
addpath(getenv('IFM'), '-end');
addpath(fullfile(getenv('IFM'), 'pyrtools', 'matlabPyrTools'), '-end');  % last: its mean2.m
warning('off', 'all');
listing = dir('*-A.png');
ids = strrep({listing.name}, '-A.png', '');
calls = {'AVG', 'AG(F)'; 'STD', 'SD(F)'; 'SEN', 'EN(F,256)'; 'SF', 'SF(F)'; ...
         'EI', 'metricsEdge_intensity(F)'; 'VIFF', 'VIFF_Public(A,B,F)'; 'Qabf', 'metricXydeas(A,B,F)'; ...
         'Qc', 'real(metricChenBlum(A,B,F))'; 'Qm', 'metricPWW(A,B,F)'; 'SCD', 'analysis_SCD(A,B,F)'; ...
         'MI', 'metricMI(A,B,F,1)'; 'NCIE', 'metricWang(A,B,F)'; 'FMI', 'fmi(A,B,F)'; ...
         'Qp', 'metricZhao(A,B,F)'; 'Qw', 'metricPeilla(A,B,F,2)'; 'Qs', 'metricPeilla(A,B,F,1)'; ...
         'Qe', 'metricPeilla(A,B,F,3)'; 'Qy', 'metricYang(A,B,F)'; 'Qcvejic', 'metricCvejic(A,B,F,2)'; ...
         'Qcv', 'real(metricChen(A,B,F))'; 'TE', 'metricMI(A,B,F,2)'; 'Nabf', 'nabf_of(F,A,B)'};
only = getenv('METRICS');  % optional: a comma-separated subset
printf('case_id,metric,value,call\n');
for i = 1:numel(ids)
  id = ids{i};
  A = read8([id '-A.png']); B = read8([id '-B.png']); F = read8([id '-F.png']);
  for j = 1:size(calls, 1)
    if ~isempty(only) && ~any(strcmp(strsplit(only, ','), calls{j, 1}))
      continue;
    end
    try
      evalc(['v = ' calls{j, 2} ';']);          % corrDn.m prints a "compile the MEX" note
      printf('%s,%s,%.17g,"%s"\n', id, calls{j, 1}, v, calls{j, 2});
    catch err
      msg = strrep(strrep(err.message, '"', ''''), sprintf('\n'), ' ');
      printf('%s,%s,error,"%s: %s"\n', id, calls{j, 1}, calls{j, 2}, msg);
    end
    fflush(stdout);
  end
end
